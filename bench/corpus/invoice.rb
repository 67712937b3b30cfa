# frozen_string_literal: true

require 'bigdecimal'
require 'date'

# Builds invoices from time entries for the consulting billing tool.
module Billing
  class InvoiceError < StandardError; end

  Entry = Struct.new(:date, :project, :hours, :rate, :description, keyword_init: true)

  class Invoice
    attr_reader :number, :client, :entries, :issued_on, :due_on

    VAT_RATE = BigDecimal('0.19')
    PAYMENT_DAYS = 30

    def initialize(number:, client:, entries:, issued_on: Date.today)
      raise InvoiceError, 'an invoice needs at least one entry' if entries.empty?

      @number = number
      @client = client
      @entries = entries.sort_by(&:date)
      @issued_on = issued_on
      @due_on = issued_on + PAYMENT_DAYS
    end

    def period
      (entries.first.date..entries.last.date)
    end

    def lines
      entries.group_by(&:project).map do |project, items|
        hours = items.sum(&:hours)
        rate = items.first.rate
        if items.any? { |e| e.rate != rate }
          raise InvoiceError, "mixed rates in project #{project}"
        end

        { project: project, hours: hours, rate: rate, amount: (BigDecimal(hours.to_s) * rate).round(2) }
      end
    end

    def net
      lines.sum { |l| l[:amount] }
    end

    def vat
      return BigDecimal('0') if client.fetch(:reverse_charge, false)

      (net * VAT_RATE).round(2)
    end

    def total
      net + vat
    end

    def overdue?(today = Date.today)
      today > due_on
    end

    def to_text
      out = []
      out << "Invoice #{number} for #{client[:name]}"
      out << "Period: #{period.first} to #{period.last}, due #{due_on}"
      lines.each do |l|
        out << format('%-30s %6.2f h x %8.2f = %10.2f', l[:project], l[:hours], l[:rate], l[:amount])
      end
      out << format('%-30s %33.2f', 'Net', net)
      out << format('%-30s %33.2f', 'VAT', vat)
      out << format('%-30s %33.2f', 'Total', total)
      out.join("\n")
    end
  end
end
