"""newsdesk: article pages with atomic, bot-proof view counters on AWS SAM."""

__version__ = "0.1.0"
