-- Nexmark q2 (bench/nexmark/q2.flow)
SELECT auction, price FROM bid WHERE auction % 123 = 0
