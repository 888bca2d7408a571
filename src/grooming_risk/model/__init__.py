"""Model components: the message encoder, message features, the sequence model and the artifact."""
