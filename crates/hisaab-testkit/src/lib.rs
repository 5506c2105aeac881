//! hisaab-testkit (being written).
