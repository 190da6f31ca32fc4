//! Every number, time and amount formatter, once, so tables, captions and error messages agree.
