-- Nexmark q8 (bench/nexmark/q8.flow): people who opened an auction in the 10 s window they
-- joined in.
WITH P AS (
  SELECT DISTINCT id, name, (epoch_ms(dateTime) // 10000) * 10000 AS starttime FROM person
), A AS (
  SELECT DISTINCT seller, (epoch_ms(dateTime) // 10000) * 10000 AS starttime FROM auction
)
SELECT P.id, P.name, make_timestamp(P.starttime * 1000) AS starttime
FROM P JOIN A ON P.id = A.seller AND P.starttime = A.starttime
