// What the demo page receives as /demo/catalog.json: shared by the Node side and the page.

export interface CatalogItem {
  /** Dense item id: the row in the model's item tables and the itemId the browser records. */
  item: number;
  title: string;
  /** Interactions in the dataset the simulated users come from. */
  popularity: number;
}

export interface Catalog {
  source: 'movielens-100k' | 'synthetic';
  items: CatalogItem[];
}
