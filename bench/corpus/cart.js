// cart.js - the shopping cart of the storefront: line items, coupons, tax
// and shipping, persisted to localStorage and synced to the server.
import { debounce } from './debounce.js';

const STORAGE_KEY = 'storefront.cart.v3';
const FREE_SHIPPING_FROM = 5000; // cents
const MAX_QUANTITY = 99;

const TAX_RATES = {
  DE: 0.19,
  FR: 0.2,
  NL: 0.21,
  US: 0,
  GB: 0.2,
};

export class CartError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function cents(n) {
  return Math.round(n);
}

export class Cart {
  constructor({ storage = globalThis.localStorage, api, country = 'DE' } = {}) {
    this.storage = storage;
    this.api = api;
    this.country = country;
    this.items = new Map();
    this.coupon = null;
    this.listeners = new Set();
    this.sync = debounce(() => this.pushToServer(), 800);
    this.load();
  }

  load() {
    let raw;
    try {
      raw = this.storage && this.storage.getItem(STORAGE_KEY);
    } catch (e) {
      raw = null; // private browsing: storage may throw
    }
    if (!raw) return;
    try {
      const data = JSON.parse(raw);
      for (const it of data.items || []) {
        this.items.set(it.sku, it);
      }
      this.coupon = data.coupon || null;
    } catch (e) {
      console.warn('cart: discarding unreadable saved cart', e);
      this.storage.removeItem(STORAGE_KEY);
    }
  }

  save() {
    const data = { items: [...this.items.values()], coupon: this.coupon };
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify(data));
    } catch (e) {
      // quota exceeded: the server copy is the backup
    }
    this.emit();
    this.sync();
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    const snapshot = this.totals();
    for (const fn of this.listeners) {
      try {
        fn(snapshot);
      } catch (e) {
        console.error('cart listener failed', e);
      }
    }
  }

  add(product, quantity = 1) {
    if (!Number.isInteger(quantity) || quantity < 1) {
      throw new CartError('bad_quantity', 'quantity must be a positive integer');
    }
    const existing = this.items.get(product.sku);
    const qty = (existing ? existing.quantity : 0) + quantity;
    if (qty > MAX_QUANTITY) {
      throw new CartError('too_many', `at most ${MAX_QUANTITY} of one item`);
    }
    if (product.stock !== undefined && qty > product.stock) {
      throw new CartError('out_of_stock', `only ${product.stock} left`);
    }
    this.items.set(product.sku, {
      sku: product.sku,
      name: product.name,
      unitPrice: product.price,
      quantity: qty,
      weight: product.weight || 0,
    });
    this.save();
  }

  setQuantity(sku, quantity) {
    const item = this.items.get(sku);
    if (!item) return;
    if (quantity <= 0) {
      this.items.delete(sku);
    } else {
      item.quantity = Math.min(quantity, MAX_QUANTITY);
    }
    this.save();
  }

  remove(sku) {
    if (this.items.delete(sku)) this.save();
  }

  clear() {
    this.items.clear();
    this.coupon = null;
    this.save();
  }

  async applyCoupon(code) {
    const normalized = String(code).trim().toUpperCase();
    if (!/^[A-Z0-9-]{3,20}$/.test(normalized)) {
      throw new CartError('bad_coupon', 'coupon codes are 3-20 letters, digits or dashes');
    }
    const coupon = await this.api.lookupCoupon(normalized);
    if (!coupon || coupon.expired) {
      throw new CartError('unknown_coupon', `coupon ${normalized} is not valid`);
    }
    if (coupon.minSubtotal && this.subtotal() < coupon.minSubtotal) {
      throw new CartError('below_minimum', 'order total too low for this coupon');
    }
    this.coupon = coupon;
    this.save();
  }

  subtotal() {
    let sum = 0;
    for (const it of this.items.values()) {
      sum += it.unitPrice * it.quantity;
    }
    return cents(sum);
  }

  discount() {
    if (!this.coupon) return 0;
    const sub = this.subtotal();
    if (this.coupon.kind === 'percent') {
      return cents((sub * this.coupon.value) / 100);
    }
    if (this.coupon.kind === 'fixed') {
      return Math.min(sub, this.coupon.value);
    }
    return 0;
  }

  shipping() {
    const sub = this.subtotal() - this.discount();
    if (this.items.size === 0 || sub >= FREE_SHIPPING_FROM) return 0;
    let weight = 0;
    for (const it of this.items.values()) weight += it.weight * it.quantity;
    if (weight <= 1000) return 495;
    if (weight <= 5000) return 795;
    return 1495;
  }

  tax() {
    const rate = TAX_RATES[this.country];
    if (rate == undefined) {
      throw new CartError('no_tax_rate', `no tax rate for ${this.country}`);
    }
    // prices are gross: the tax is the part of the total it already contains
    const gross = this.subtotal() - this.discount() + this.shipping();
    return cents(gross - gross / (1 + rate));
  }

  totals() {
    const subtotal = this.subtotal();
    const discount = this.discount();
    const shipping = this.shipping();
    return {
      count: [...this.items.values()].reduce((n, it) => n + it.quantity, 0),
      subtotal,
      discount,
      shipping,
      tax: this.tax(),
      total: subtotal - discount + shipping,
    };
  }

  async pushToServer() {
    if (!this.api) return;
    try {
      await this.api.saveCart({ items: [...this.items.values()], coupon: this.coupon?.code });
    } catch (e) {
      console.warn('cart: sync failed, will retry on the next change', e.message);
    }
  }
}
