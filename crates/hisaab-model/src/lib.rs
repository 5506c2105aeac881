//! hisaab-model (being written).
