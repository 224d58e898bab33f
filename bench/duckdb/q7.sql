-- Nexmark q7 (bench/nexmark/q7.flow): the bids at the highest price of their 10 s window,
-- with a bid exactly at a window's end also matching that window (BETWEEN).
WITH highest AS (
  SELECT max(price) AS maxprice, (epoch_ms(dateTime) // 10000) * 10000 + 10000 AS window_end
  FROM bid GROUP BY (epoch_ms(dateTime) // 10000)
)
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid B JOIN highest H ON B.price = H.maxprice
WHERE epoch_ms(B.dateTime) BETWEEN H.window_end - 10000 AND H.window_end
