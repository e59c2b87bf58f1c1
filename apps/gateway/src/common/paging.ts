/** Links to the neighbouring pages of a list, as Plivo's `meta.next` / `meta.previous`. */
export function pageLinks(path: string, query: Record<string, unknown>, page: { limit: number; offset: number; total: number }) {
  const link = (offset: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && key !== 'limit' && key !== 'offset') params.set(key, String(value));
    }
    params.set('limit', String(page.limit));
    params.set('offset', String(offset));
    return `${path}?${params.toString()}`;
  };
  return {
    next: page.offset + page.limit < page.total ? link(page.offset + page.limit) : null,
    previous: page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null,
  };
}
