package com.example.shop.orders;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Validates, prices and submits orders. Payment and stock are external
 * services behind interfaces so the processor can be tested alone.
 */
public final class OrderProcessor {

    private static final Logger LOG = Logger.getLogger(OrderProcessor.class.getName());
    private static final BigDecimal MAX_ORDER_TOTAL = new BigDecimal("10000.00");

    public interface PaymentGateway {
        String charge(String customerId, BigDecimal amount, String idempotencyKey)
                throws PaymentException;

        void refund(String chargeId, BigDecimal amount) throws PaymentException;
    }

    public interface StockService {
        boolean reserve(String sku, int quantity, String orderId);

        void release(String orderId);
    }

    public static final class PaymentException extends Exception {
        private final boolean retryable;

        public PaymentException(String message, boolean retryable) {
            super(message);
            this.retryable = retryable;
        }

        public boolean isRetryable() {
            return retryable;
        }
    }

    public record Line(String sku, int quantity, BigDecimal unitPrice) {
        public Line {
            Objects.requireNonNull(sku, "sku");
            if (quantity <= 0) {
                throw new IllegalArgumentException("quantity must be positive");
            }
        }

        BigDecimal total() {
            return unitPrice.multiply(BigDecimal.valueOf(quantity));
        }
    }

    public enum Status { NEW, RESERVED, PAID, FAILED, CANCELLED }

    public static final class Order {
        final String id;
        final String customerId;
        final List<Line> lines;
        final Instant createdAt;
        volatile Status status = Status.NEW;
        String chargeId;
        BigDecimal total = BigDecimal.ZERO;
        String failure;

        Order(String id, String customerId, List<Line> lines, Instant createdAt) {
            this.id = id;
            this.customerId = customerId;
            this.lines = List.copyOf(lines);
            this.createdAt = createdAt;
        }

        public Status status() {
            return status;
        }

        public Optional<String> failure() {
            return Optional.ofNullable(failure);
        }
    }

    private final PaymentGateway payments;
    private final StockService stock;
    private final Clock clock;
    private final Map<String, Order> orders = new ConcurrentHashMap<>();
    private final Map<String, BigDecimal> discounts = new HashMap<>();

    public OrderProcessor(PaymentGateway payments, StockService stock, Clock clock) {
        this.payments = payments;
        this.stock = stock;
        this.clock = clock;
    }

    public void setDiscount(String customerId, BigDecimal percent) {
        if (percent.signum() < 0 || percent.compareTo(BigDecimal.valueOf(50)) > 0) {
            throw new IllegalArgumentException("discount must be 0..50 percent");
        }
        discounts.put(customerId, percent);
    }

    BigDecimal price(Order order) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Line l : order.lines) {
            sum = sum.add(l.total());
        }
        BigDecimal pct = discounts.getOrDefault(order.customerId, BigDecimal.ZERO);
        BigDecimal off = sum.multiply(pct).divide(BigDecimal.valueOf(100), 2, RoundingMode.HALF_UP);
        return sum.subtract(off).setScale(2, RoundingMode.HALF_UP);
    }

    public Order submit(String orderId, String customerId, List<Line> lines) {
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("an order needs at least one line");
        }
        Order existing = orders.get(orderId);
        if (existing != null) {
            return existing; // resubmission of the same order id
        }
        Order order = new Order(orderId, customerId, lines, clock.instant());
        orders.put(orderId, order);

        order.total = price(order);
        if (order.total.compareTo(MAX_ORDER_TOTAL) > 0) {
            return fail(order, "order total above the limit, needs manual review");
        }

        List<String> reserved = new ArrayList<>();
        for (Line l : order.lines) {
            if (!stock.reserve(l.sku(), l.quantity(), order.id)) {
                stock.release(order.id);
                return fail(order, "out of stock: " + l.sku());
            }
            reserved.add(l.sku());
        }
        order.status = Status.RESERVED;

        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                order.chargeId = payments.charge(customerId, order.total, "order-" + order.id);
                order.status = Status.PAID;
                LOG.info(() -> "order " + order.id + " paid " + order.total);
                return order;
            } catch (PaymentException e) {
                LOG.log(Level.WARNING, "payment attempt " + attempt + " failed for " + order.id, e);
                if (!e.isRetryable()) {
                    break;
                }
                try {
                    Thread.sleep(200L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        stock.release(order.id);
        return fail(order, "payment failed");
    }

    private Order fail(Order order, String why) {
        order.status = Status.FAILED;
        order.failure = why;
        LOG.warning("order " + order.id + " failed: " + why);
        return order;
    }

    public boolean cancel(String orderId) {
        Order order = orders.get(orderId);
        if (order == null) {
            return false;
        }
        synchronized (order) {
            if (order.status == Status.PAID) {
                try {
                    payments.refund(order.chargeId, order.total);
                } catch (PaymentException e) {
                    LOG.log(Level.SEVERE, "refund failed for " + orderId, e);
                    return false;
                }
            }
            if (order.status == Status.RESERVED || order.status == Status.PAID) {
                stock.release(orderId);
            }
            order.status = Status.CANCELLED;
        }
        return true;
    }

    public List<Order> byCustomer(String customerId) {
        List<Order> out = new ArrayList<>();
        for (Order o : orders.values()) {
            if (o.customerId.equals(customerId)) {
                out.add(o);
            }
        }
        out.sort((a, b) -> b.createdAt.compareTo(a.createdAt));
        return Collections.unmodifiableList(out);
    }
}
