"""Class and school stories: posts, the feed and likes."""
