//! scan tests
