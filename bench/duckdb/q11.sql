-- Nexmark q11 (bench/nexmark/q11.flow): sessions per bidder with a 10 s gap. As in flowc, a
-- bid 10 s or less after the one before continues the session (the windows [t, t + 10 s)
-- touch); the session ends 10 s after its last bid.
WITH b AS (
  SELECT bidder, epoch_ms(dateTime) AS t FROM bid
), marked AS (
  SELECT bidder, t, CASE WHEN t - lag(t) OVER (PARTITION BY bidder ORDER BY t) <= 10000 THEN 0 ELSE 1 END AS starts
  FROM b
), numbered AS (
  SELECT bidder, t, sum(starts) OVER (PARTITION BY bidder ORDER BY t ROWS UNBOUNDED PRECEDING) AS session
  FROM marked
)
SELECT bidder, count(*) AS bid_count, make_timestamp(min(t) * 1000) AS starttime, make_timestamp((max(t) + 10000) * 1000) AS endtime
FROM numbered GROUP BY bidder, session
