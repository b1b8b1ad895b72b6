import numpy as np
from PIL import Image

from reprlearn.analysis.plots import projection_scatter, shorten, similarity_heatmap
from reprlearn.analysis.projection import project_2d
from reprlearn.analysis.similarity import cosine_similarity_matrix, stratified_sample


def _png(path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def _colourful_share(pixels: np.ndarray) -> float:
    """Share of clearly coloured (not grey/white/black) pixels."""
    p = pixels.astype(int)
    return float(((p.max(axis=2) - p.min(axis=2)) > 60).mean())


def test_shorten():
    assert shorten("a  short\ntext") == "a short text"
    long = shorten("x" * 100)
    assert len(long) == 30 and long.endswith("\u2026")


def test_heatmap_with_digit_thumbnails(tmp_path, digits):
    X, y = digits
    idx = stratified_sample(y, 20, seed=0)
    sim = cosine_similarity_matrix(X[idx])
    labels = [str(c) for c in y[idx]]
    thumbs = [Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8), "L") for i in idx]
    plain = similarity_heatmap(sim, labels, tmp_path / "plain.png")
    with_thumbs = similarity_heatmap(sim, labels, tmp_path / "thumbs.png", thumbnails=thumbs)
    assert with_thumbs == tmp_path / "thumbs.png" and with_thumbs.is_file()
    a, b = _png(plain), _png(with_thumbs)
    # room was made for the thumbnails below the matrix; cells are coloured
    assert b.shape[0] > a.shape[0]
    assert _colourful_share(a) > 0.2
    # the thumbnails add dark (black background) patches left of the rows
    assert (b[:, : b.shape[1] // 10] < 30).all(axis=2).mean() > (a[:, : a.shape[1] // 10] < 30).all(
        axis=2
    ).mean()


def test_heatmap_with_texts_is_wider_and_large_n_works(tmp_path, digits):
    X, y = digits
    sim = cosine_similarity_matrix(X[:12])
    labels = [str(c) for c in y[:12]]
    texts = [f"sentence number {i} that is long enough to be cut short" for i in range(12)]
    narrow = _png(similarity_heatmap(sim, labels, tmp_path / "a.png"))
    wide = _png(similarity_heatmap(sim, labels, tmp_path / "b.png", texts=texts))
    assert wide.shape[1] > narrow.shape[1]
    big = cosine_similarity_matrix(X[:80])
    out = similarity_heatmap(big, [str(c) for c in y[:80]], tmp_path / "big.png")
    assert _png(out).shape[0] > 500


def test_heatmap_constant_matrix_does_not_fail(tmp_path):
    sim = np.ones((4, 4), dtype=np.float32)
    assert similarity_heatmap(sim, list("abcd"), tmp_path / "c.png").is_file()


def test_scatter_labelled_unlabelled_and_many_classes(tmp_path, digits):
    X, y = digits
    proj = project_2d(X)
    names = [f"digit {i}" for i in range(10)]
    labelled = _png(projection_scatter(proj.points, y, names, tmp_path / "map.png"))
    unlabelled = _png(projection_scatter(proj.points, None, None, tmp_path / "map0.png"))
    assert labelled.shape[0] == unlabelled.shape[0]  # tight bbox: widths follow the legend
    # ten class colours against one: many more distinct hues in the labelled map
    hues = lambda p: len(np.unique((p[_mask(p)] // 32).reshape(-1, 3), axis=0))  # noqa: E731
    assert hues(labelled) > 2 * hues(unlabelled)
    rng = np.random.default_rng(0)
    many = rng.integers(0, 30, size=len(X))
    assert projection_scatter(proj.points, many, None, tmp_path / "m.png").is_file()


def _mask(p: np.ndarray) -> np.ndarray:
    q = p.astype(int)
    return (q.max(axis=2) - q.min(axis=2)) > 60
