"""Widgets of the app; each styled from app.tcss through its component classes."""
