"""Look around an embedding space: the explorer's data table, the browser explorer
(embedding-atlas, or reprlearn's self-contained page) and the TensorBoard projector export."""
