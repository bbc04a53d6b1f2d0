"""Datasets of dict samples: {"image", "text", "audio", "video", "label", ...}."""
