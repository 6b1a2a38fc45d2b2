#pragma once
#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

namespace gh::ui {

// Number formatting for the whole window, and the log scale of the limit sliders. Amounts are USD
// in and shown in the display currency (Settings: USD, EUR or GBP at the user's rate).
class Format : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(QString currency READ currency NOTIFY currencyChanged)
    Q_PROPERTY(QString currencySymbol READ currencySymbol NOTIFY currencyChanged)
    Q_PROPERTY(double currencyRate READ currencyRate NOTIFY currencyChanged)
    Q_PROPERTY(double sliderMinUsd READ sliderMinUsd CONSTANT)
    Q_PROPERTY(double sliderMaxUsd READ sliderMaxUsd CONSTANT)
public:
    static constexpr double kSliderMinUsd = 0.1;
    static constexpr double kSliderMaxUsd = 1000.0;

    // No default argument on purpose: Qt 6.4 default-constructs a QML_SINGLETON that has a default
    // constructor instead of calling create(), which would give QML a second, unconnected instance.
    explicit Format(QObject *parent);

    // The application's instance (created on first use, C++-owned).
    [[nodiscard]] static Format *instance();
    static Format *create(QQmlEngine *, QJSEngine *);

    [[nodiscard]] QString currency() const { return m_currency; }
    [[nodiscard]] QString currencySymbol() const;
    [[nodiscard]] double currencyRate() const { return m_rate; }
    [[nodiscard]] static double sliderMinUsd() { return kSliderMinUsd; }
    [[nodiscard]] static double sliderMaxUsd() { return kSliderMaxUsd; }
    // "USD" (rate ignored), "EUR" or "GBP" with the amount of that currency one USD buys (> 0).
    void setCurrency(const QString &code, double rate);

    // "$0.0123", "$0.50", "$12.50", "$1,234", "-$2.00"; in the display currency.
    Q_INVOKABLE [[nodiscard]] QString usd(double value) const;
    // A spending limit: "No limit" when negative, else usd().
    Q_INVOKABLE [[nodiscard]] QString limit(double usd) const;
    // "999", "1.2k", "12.3k", "123k", "3.4M", "1.2B".
    Q_INVOKABLE [[nodiscard]] QString tokens(double count) const;
    // "850 ms", "1.2 s", "2m 05s", "1h 02m"; "—" when negative (not measured).
    Q_INVOKABLE [[nodiscard]] QString duration(double ms) const;
    // Local "yyyy-MM-dd HH:mm:ss"; "" for 0.
    Q_INVOKABLE [[nodiscard]] QString dateTime(double msSinceEpoch) const;
    // A fraction as a percentage: 0.423 -> "42%", 0.042 -> "4.2%".
    Q_INVOKABLE [[nodiscard]] QString percent(double fraction) const;

    // The limit sliders: position 0..1 maps $0.10..$1,000 on a log scale, rounded to a nice amount
    // (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 times a power of ten). usdToSlider is the exact inverse of the
    // scale (so a nice amount round-trips), clamped to 0..1.
    Q_INVOKABLE [[nodiscard]] double sliderToUsd(double position) const;
    Q_INVOKABLE [[nodiscard]] double usdToSlider(double usd) const;
    // The nearest nice amount (log distance) to a positive amount.
    Q_INVOKABLE [[nodiscard]] double niceUsd(double usd) const;

Q_SIGNALS:
    void currencyChanged();

private:
    QString m_currency = QStringLiteral("USD");
    double m_rate = 1.0;
};

} // namespace gh::ui
