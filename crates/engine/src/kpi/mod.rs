//! KPI folds over events (stub).
