"""Encoders: each maps one modality to a (batch, out_dim) feature, one module per modality.

Every encoder is an ``nn.Module`` with an ``out_dim`` attribute, so a fusion module or a
classifier head can be sized from it.
"""
