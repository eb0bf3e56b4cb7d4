//! Plausibility of reported usage: the one check every parser's
//! [`AgentEvent::Usage`] goes through before it is counted.
//!
//! A CLI (or a hostile agent printing fake CLI lines) can report anything:
//! a cost of `1e308`, a negative or NaN cost, trillions of tokens. Such a
//! report is a parse anomaly: the engine logs it and ignores it, so budgets
//! and the board never show it; the last plausible report stays counted.

use super::event::AgentEvent;

/// Highest believable cost of one attempt, in US dollars.
pub const MAX_ATTEMPT_COST_USD: f64 = 10_000.0;
/// Highest believable token count (input or output) of one attempt.
pub const MAX_ATTEMPT_TOKENS: u64 = 1_000_000_000_000;

/// Why a usage report is not believed.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum UsageAnomaly {
    #[error("a cost that is not a number ({0})")]
    CostNotFinite(f64),
    #[error("a negative cost (${0})")]
    NegativeCost(f64),
    #[error("a cost of ${0:e}, more than ${MAX_ATTEMPT_COST_USD} for one attempt")]
    CostTooLarge(f64),
    #[error("{0} tokens, more than {MAX_ATTEMPT_TOKENS} for one attempt")]
    TooManyTokens(u64),
}

/// Checks a usage event when `event` is one; any other event passes.
/// Called by the engine for every event before it counts usage.
pub fn check_usage(event: &AgentEvent) -> Result<(), UsageAnomaly> {
    let AgentEvent::Usage {
        input_tokens,
        output_tokens,
        cost_usd,
    } = event
    else {
        return Ok(());
    };
    if let Some(&tokens) = [input_tokens, output_tokens]
        .into_iter()
        .find(|t| **t > MAX_ATTEMPT_TOKENS)
    {
        return Err(UsageAnomaly::TooManyTokens(tokens));
    }
    match *cost_usd {
        Some(c) if !c.is_finite() => Err(UsageAnomaly::CostNotFinite(c)),
        Some(c) if c < 0.0 => Err(UsageAnomaly::NegativeCost(c)),
        Some(c) if c > MAX_ATTEMPT_COST_USD => Err(UsageAnomaly::CostTooLarge(c)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cost: Option<f64>) -> AgentEvent {
        AgentEvent::Usage {
            input_tokens: input,
            output_tokens: output,
            cost_usd: cost,
        }
    }

    #[test]
    fn plausible_reports_pass() {
        assert_eq!(check_usage(&usage(1200, 300, Some(0.42))), Ok(()));
        assert_eq!(check_usage(&usage(0, 0, None)), Ok(()));
        assert_eq!(check_usage(&usage(0, 0, Some(0.0))), Ok(()));
        assert_eq!(
            check_usage(&usage(MAX_ATTEMPT_TOKENS, 1, Some(10_000.0))),
            Ok(())
        );
        let text = AgentEvent::Text { text: "x".into() };
        assert_eq!(check_usage(&text), Ok(()));
    }

    #[test]
    fn a_huge_cost_is_an_anomaly() {
        assert_eq!(
            check_usage(&usage(1, 1, Some(1e308))),
            Err(UsageAnomaly::CostTooLarge(1e308))
        );
        assert_eq!(
            check_usage(&usage(1, 1, Some(10_000.01))),
            Err(UsageAnomaly::CostTooLarge(10_000.01))
        );
        let message = UsageAnomaly::CostTooLarge(1e308).to_string();
        assert!(message.len() < 80, "not a 309-digit amount: {message}");
    }

    #[test]
    fn a_negative_cost_is_an_anomaly() {
        assert_eq!(
            check_usage(&usage(1, 1, Some(-0.5))),
            Err(UsageAnomaly::NegativeCost(-0.5))
        );
    }

    #[test]
    fn nan_and_infinite_costs_are_anomalies() {
        assert!(matches!(
            check_usage(&usage(1, 1, Some(f64::NAN))),
            Err(UsageAnomaly::CostNotFinite(_))
        ));
        assert!(matches!(
            check_usage(&usage(1, 1, Some(f64::INFINITY))),
            Err(UsageAnomaly::CostNotFinite(_))
        ));
        assert!(matches!(
            check_usage(&usage(1, 1, Some(f64::NEG_INFINITY))),
            Err(UsageAnomaly::CostNotFinite(_))
        ));
    }

    #[test]
    fn astronomical_token_counts_are_anomalies() {
        assert_eq!(
            check_usage(&usage(MAX_ATTEMPT_TOKENS + 1, 0, None)),
            Err(UsageAnomaly::TooManyTokens(MAX_ATTEMPT_TOKENS + 1))
        );
        assert_eq!(
            check_usage(&usage(5, u64::MAX, Some(1.0))),
            Err(UsageAnomaly::TooManyTokens(u64::MAX))
        );
    }
}
