//! hisaab-server (being written).
