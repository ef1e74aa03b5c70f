"""Privacy (P18): what is held about a user (export), erasure of accounts and pupils, retention."""
