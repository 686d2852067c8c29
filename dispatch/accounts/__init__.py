"""Accounts: organizations, users, roles and permissions, login and bearer credentials."""
