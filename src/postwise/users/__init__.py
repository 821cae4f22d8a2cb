"""People who use Postwise: profiles and admin management."""
