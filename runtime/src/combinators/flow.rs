//! `pipe`, `onto_chan`, `to_chan`, `reduce`, `into` (being written).
