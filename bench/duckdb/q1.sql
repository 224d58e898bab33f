-- Nexmark q1 (bench/nexmark/q1.flow): price as a DOUBLE, as flowc's f64
SELECT auction, bidder, 0.908 * CAST(price AS DOUBLE) AS price, dateTime, extra FROM bid
