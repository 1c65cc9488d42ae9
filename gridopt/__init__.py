"""gridopt: power and gas dispatch and capacity expansion for the Pan-Pearl-River-Delta region."""

__version__ = "0.1.0"
