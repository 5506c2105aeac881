//! hisaab-store (being written).
