//! `pipeline`, `pipeline_blocking`, `pipeline_async` (being written).
