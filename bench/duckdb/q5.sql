-- Nexmark q5 (bench/nexmark/q5.flow): hopping windows of 10 s every 2 s, aligned to the epoch;
-- the auctions with the most bids of each window, ties included.
WITH windows AS (
  SELECT auction, (epoch_ms(dateTime) // 2000) * 2000 - k * 2000 AS window_start
  FROM bid, range(0, 5) AS r(k)
), counts AS (
  SELECT auction, window_start, count(*) AS num FROM windows GROUP BY auction, window_start
), maxes AS (
  SELECT window_start, max(num) AS maxn FROM counts GROUP BY window_start
)
SELECT c.auction, c.num FROM counts c JOIN maxes m USING (window_start) WHERE c.num >= m.maxn
