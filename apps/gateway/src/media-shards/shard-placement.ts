/** Which of `count` shards a key belongs to: FNV-1a over its UTF-16 code units, so every process agrees. */
export function shardIndex(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}
