/** ML-100K's genre columns of u.item, in file order (fields 6-24). */
export const MOVIELENS_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

export interface MovieLensItem {
  title: string;
  genres: string[];
}

/**
 * u.item (`id|title|date|video date|url|19 genre flags`), by MovieLens item id. One parser for the
 * benchmarks and the demo; lines that are not a whole record are skipped.
 */
export function parseMovieLensItems(text: string): Map<string, MovieLensItem> {
  const items = new Map<string, MovieLensItem>();
  for (const line of text.split('\n')) {
    const f = line.split('|');
    const id = f[0]?.trim();
    if (!id || f.length < 5 + MOVIELENS_GENRES.length) continue;
    items.set(id, { title: (f[1] ?? '').trim(), genres: MOVIELENS_GENRES.filter((_, g) => f[5 + g]?.trim() === '1') });
  }
  return items;
}
