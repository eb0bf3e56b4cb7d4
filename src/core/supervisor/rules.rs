//! What a proposal may change, and what it changes: the full proposed plan
//! (tasks the answer leaves out but that are done, running or in review are
//! kept unless an action drops them), the plan diff, the decision kind of
//! each change for autonomy, and the commands that carry it out.
