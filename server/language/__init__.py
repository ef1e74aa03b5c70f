"""Languages below the domain: stored translations, the reader's view, locale formatting."""
