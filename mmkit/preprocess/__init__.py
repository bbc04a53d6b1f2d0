"""Preprocessing per modality, one module each: image.py (torchvision transforms), text.py
(tokenizer, vocabulary, padding), audio.py (log-mel, MFCC, normalisation), video.py (frame
differences, optical flow). Import the module you need, e.g.
``from mmkit.preprocess.text import Vocabulary``; image.py loads torchvision, so nothing
here imports it until asked.
"""
