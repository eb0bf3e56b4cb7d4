//! The stream-json lines of Claude Code as borrowed serde types: only the
//! fields the parser reads; strings borrowed from the line unless escaped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};

use crate::agent::json::{ArgFields, MaybeStr, Num, Str, text_of};

/// One stream-json line: the union of the fields of the line types we read.
#[derive(Deserialize)]
pub(super) struct Line<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: Str<'a>,
    #[serde(default, borrow)]
    pub(super) subtype: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) session_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) model: Option<Str<'a>>,
    /// An object for `assistant`/`user`, a string for `system/permission_denied`.
    #[serde(default, borrow)]
    pub(super) message: Option<MessageField<'a>>,
    #[serde(default)]
    pub(super) is_api_error_message: bool,
    #[serde(default)]
    pub(super) api_error_status: Num,
    #[serde(default, borrow)]
    pub(super) error: MaybeStr<'a>,
    #[serde(default)]
    pub(super) attempt: Num,
    #[serde(default)]
    pub(super) max_retries: Num,
    #[serde(default)]
    pub(super) retry_delay_ms: Num,
    #[serde(default)]
    pub(super) error_status: Num,
    #[serde(default, borrow)]
    pub(super) tool_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) tool_use_id: Option<Str<'a>>,
    #[serde(default)]
    pub(super) is_error: Option<bool>,
    #[serde(default, borrow)]
    pub(super) result: MaybeStr<'a>,
    #[serde(default, borrow)]
    pub(super) errors: Option<Vec<MaybeStr<'a>>>,
    #[serde(default)]
    pub(super) total_cost_usd: Option<f64>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
    #[serde(default)]
    pub(super) model_usage_since_last_result: Option<HashMap<String, ModelCost>>,
    #[serde(default, borrow)]
    pub(super) permission_denials: Option<Vec<DeniedUse<'a>>>,
}

#[derive(Deserialize)]
pub(super) struct Usage {
    #[serde(default)]
    pub(super) input_tokens: Num,
    #[serde(default)]
    pub(super) output_tokens: Num,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Num,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Num,
}

impl Usage {
    pub(super) fn input(&self) -> u64 {
        [
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ]
        .iter()
        .filter_map(|n| n.get())
        .fold(0, u64::saturating_add)
    }

    pub(super) fn output(&self) -> u64 {
        self.output_tokens.get().unwrap_or(0)
    }
}

#[derive(Deserialize)]
pub(super) struct ModelCost {
    #[serde(rename = "costUSD", default)]
    pub(super) cost_usd: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct DeniedUse<'a> {
    #[serde(default, borrow)]
    pub(super) tool_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) tool_use_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) tool_input: Option<ArgFields<'a>>,
}

pub(super) enum MessageField<'a> {
    Text(Cow<'a, str>),
    Object(Message<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for MessageField<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MessageField<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message object or string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MessageField::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MessageField::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MessageField::Text(Cow::Borrowed("")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Message::deserialize(MapAccessDeserializer::new(map)).map(MessageField::Object)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[derive(Deserialize)]
pub(super) struct Message<'a> {
    #[serde(default, borrow)]
    pub(super) id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) model: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) content: Option<Content<'a>>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
}

/// Message or tool-result content: a plain string or a list of blocks.
pub(super) enum Content<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

impl<'a> Content<'a> {
    pub(super) fn blocks(&self) -> &[Block<'a>] {
        match self {
            Content::Text(_) => &[],
            Content::Blocks(blocks) => blocks,
        }
    }

    /// The text of the content: the string, or the text blocks joined.
    pub(super) fn text(&self) -> Cow<'_, str> {
        match self {
            Content::Text(t) => Cow::Borrowed(t),
            Content::Blocks(blocks) => {
                let texts: Vec<&str> = blocks
                    .iter()
                    .filter(|b| b.kind.as_deref() == Some("text"))
                    .map(|b| text_of(&b.text))
                    .collect();
                Cow::Owned(texts.join("\n"))
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Content::Blocks(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::new();
                while let Some(block) = seq.next_element::<Block<'a>>()? {
                    blocks.push(block);
                }
                Ok(Content::Blocks(blocks))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[derive(Deserialize)]
pub(super) struct Block<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) text: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) input: Option<ArgFields<'a>>,
    #[serde(default, borrow)]
    pub(super) tool_use_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) content: Option<Content<'a>>,
    #[serde(default)]
    pub(super) is_error: Option<bool>,
}
