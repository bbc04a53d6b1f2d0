"""Preprocessing per modality: image transforms, text vocabularies, audio features, video."""
