"""The pupil area: home learning, portfolios and monster avatars."""
