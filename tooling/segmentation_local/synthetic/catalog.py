"""The content catalog: titles with a genre, a duration and a release year.

Items are stored sorted by genre so a play can pick "an item of genre g" with one offset lookup.
Durations depend on the genre (kids' episodes are short, dramas long), which is what makes
watch_seconds and session length consistent with what was watched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GENRES: tuple[str, ...] = (
    "drama",
    "comedy",
    "action",
    "thriller",
    "documentary",
    "kids",
    "animation",
    "horror",
    "romance",
    "sci-fi",
    "crime",
    "reality",
)
#: (min, max) minutes per genre, in GENRES order.
DURATION_RANGE: tuple[tuple[int, int], ...] = (
    (40, 150),
    (22, 110),
    (85, 150),
    (42, 130),
    (30, 100),
    (8, 30),
    (12, 105),
    (80, 120),
    (85, 130),
    (42, 150),
    (42, 130),
    (20, 50),
)
_ADJECTIVES = (
    "Silent", "Broken", "Golden", "Hidden", "Last", "Northern", "Crimson", "Endless", "Little",
    "Dark", "Electric", "Secret", "Wild", "Frozen", "Burning", "Lost", "Final", "Quiet",
)  # fmt: skip
_NOUNS = (
    "River", "City", "Garden", "Signal", "Empire", "Harbour", "Summer", "Machine", "Kingdom",
    "Witness", "Horizon", "Orchard", "Frontier", "Island", "Promise", "Shadow", "Voyage", "Heart",
)  # fmt: skip


@dataclass(frozen=True)
class Catalog:
    """Catalog columns as arrays; ``genre_start``/``genre_count`` index items by genre code."""

    content_id: np.ndarray  # str objects, "c-00001"
    title: np.ndarray
    genre: np.ndarray  # genre code per item
    duration_minutes: np.ndarray
    release_year: np.ndarray
    genre_start: np.ndarray
    genre_count: np.ndarray

    def __len__(self) -> int:
        return int(self.genre.size)


def build_catalog(rng: np.random.Generator, size: int, last_year: int) -> Catalog:
    """A catalog of ``size`` items; genre sizes vary (dramas are plentiful, horror rarer)."""
    n_genres = len(GENRES)
    popularity = rng.dirichlet(np.full(n_genres, 8.0))
    genre = np.sort(rng.choice(n_genres, size=size, p=popularity))
    genre_count = np.bincount(genre, minlength=n_genres)
    if (genre_count == 0).any():  # tiny catalogs: guarantee one item per genre
        genre = np.sort(np.concatenate([np.arange(n_genres), genre[: size - n_genres]]))
        genre_count = np.bincount(genre, minlength=n_genres)
    genre_start = np.cumsum(genre_count) - genre_count
    lo = np.array([r[0] for r in DURATION_RANGE])[genre]
    hi = np.array([r[1] for r in DURATION_RANGE])[genre]
    duration = (lo + rng.random(size) * (hi - lo)).round().astype(np.int64)
    # Recent titles dominate a VoD catalog: an exponential tail back to 1950.
    age = np.minimum(rng.exponential(8.0, size=size).astype(np.int64), last_year - 1950)
    release_year = (last_year - age).astype(np.int64)
    adj = rng.integers(0, len(_ADJECTIVES), size=size)
    noun = rng.integers(0, len(_NOUNS), size=size)
    sequel = rng.integers(1, 6, size=size)
    titles = np.array(
        [
            f"The {_ADJECTIVES[a]} {_NOUNS[b]}" + (f" {s}" if s > 2 else "")
            for a, b, s in zip(adj.tolist(), noun.tolist(), sequel.tolist(), strict=True)
        ],
        dtype=object,
    )
    content_id = np.array([f"c-{i:05d}" for i in range(1, size + 1)], dtype=object)
    return Catalog(
        content_id=content_id,
        title=titles,
        genre=genre,
        duration_minutes=duration,
        release_year=release_year,
        genre_start=genre_start,
        genre_count=genre_count,
    )
