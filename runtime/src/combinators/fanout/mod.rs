//! Fan-in and fan-out: `merge`, `split`, `mult`, `pub_`, `mix` (being written).
