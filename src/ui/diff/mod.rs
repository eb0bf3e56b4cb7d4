//! TEMPORARY STUB (not committed): replaced by the diff helper's module.
pub struct DiffModel;
impl DiffModel {
    pub fn new(_: Vec<crate::git::FileChange>) -> Self {
        DiffModel
    }
}
