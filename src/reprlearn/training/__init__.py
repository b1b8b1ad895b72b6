"""Learning representations: self-supervised methods, autoencoders, heads, fine-tuning."""
