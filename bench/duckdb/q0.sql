-- Nexmark q0 (bench/nexmark/q0.flow)
SELECT auction, bidder, price, dateTime, extra FROM bid
