#include "format.h"
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <QCoreApplication>
#include <QDateTime>
#include <QJSEngine>
#include <QLocale>
#include <QPointer>

namespace gh::ui {

namespace {

QPointer<Format> g_format;

const QLocale &numbers()
{
    static const QLocale l(QLocale::English, QLocale::UnitedStates);
    return l;
}

// Fixed decimals with trailing zeros trimmed down to `minDecimals`.
QString trimmed(double v, int decimals, int minDecimals)
{
    QString s = numbers().toString(v, 'f', decimals);
    const int dot = int(s.indexOf(u'.'));
    if (dot < 0)
        return s;
    int keep = int(s.size());
    while (keep > dot + 1 + minDecimals && s.at(keep - 1) == u'0')
        --keep;
    if (keep == dot + 1)
        --keep;
    return s.left(keep);
}

QString compact(double v)
{
    // One decimal below 100 of the unit ("1.2k", "12.3k"), none above ("123k").
    return v < 100 ? trimmed(v, 1, 0) : numbers().toString(std::round(v), 'f', 0);
}

double pow10(int e)
{
    return std::pow(10.0, e);
}

} // namespace

Format::Format(QObject *parent)
    : QObject(parent)
{ }

Format *Format::instance()
{
    if (!g_format) {
        g_format = new Format(nullptr);
        if (QCoreApplication::instance())
            g_format->setParent(QCoreApplication::instance());
    }
    return g_format.data();
}

Format *Format::create(QQmlEngine *, QJSEngine *)
{
    Format *f = instance();
    QJSEngine::setObjectOwnership(f, QJSEngine::CppOwnership);
    return f;
}

QString Format::currencySymbol() const
{
    if (m_currency == QLatin1String("EUR"))
        return QStringLiteral("€");
    if (m_currency == QLatin1String("GBP"))
        return QStringLiteral("£");
    return QStringLiteral("$");
}

void Format::setCurrency(const QString &code, double rate)
{
    QString c = code.toUpper();
    if (c != QLatin1String("EUR") && c != QLatin1String("GBP"))
        c = QStringLiteral("USD");
    const double r = (c == QLatin1String("USD") || !(rate > 0) || !std::isfinite(rate)) ? 1.0 : rate;
    if (c == m_currency && r == m_rate)
        return;
    m_currency = c;
    m_rate = r;
    Q_EMIT currencyChanged();
}

QString Format::usd(double value) const
{
    if (!std::isfinite(value))
        return QStringLiteral("—");
    const double v = value * m_rate;
    const double a = std::fabs(v);
    QString digits;
    if (std::round(a * 100) / 100 >= 1000) {
        digits = numbers().toString(std::round(a), 'f', 0);
    } else if (std::round(a * 100) / 100 >= 1 || a == 0) {
        digits = numbers().toString(a, 'f', 2);
    } else {
        // Three significant digits, at least two decimals, at most nine (a nano-dollar).
        const int decimals = qBound(2, 2 - int(std::floor(std::log10(a))), 9);
        digits = trimmed(a, decimals, 2);
    }
    const bool negative
        = v < 0 && std::any_of(digits.cbegin(), digits.cend(), [](QChar c) { return c >= u'1' && c <= u'9'; });
    return (negative ? QStringLiteral("-") : QString()) + currencySymbol() + digits;
}

QString Format::limit(double usdValue) const
{
    return usdValue < 0 ? tr("No limit") : usd(usdValue);
}

QString Format::tokens(double count) const
{
    if (!std::isfinite(count))
        return QStringLiteral("—");
    const double a = std::fabs(count);
    const QString sign = count < 0 ? QStringLiteral("-") : QString();
    if (std::round(a) < 1000)
        return sign + numbers().toString(std::round(a), 'f', 0);
    if (a < 999'950)
        return sign + compact(a / 1e3) + u'k';
    if (a < 999'950'000)
        return sign + compact(a / 1e6) + u'M';
    return sign + compact(a / 1e9) + u'B';
}

QString Format::duration(double ms) const
{
    if (!std::isfinite(ms) || ms < 0)
        return QStringLiteral("—");
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(qint64(std::round(ms)));
    if (ms < 59'950)
        return QStringLiteral("%1 s").arg(trimmed(ms / 1000, 1, 1));
    const qint64 s = qint64(std::round(ms / 1000));
    if (s < 3600)
        return QStringLiteral("%1m %2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h %2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString Format::dateTime(double msSinceEpoch) const
{
    if (!(msSinceEpoch > 0))
        return {};
    return QDateTime::fromMSecsSinceEpoch(qint64(msSinceEpoch)).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString Format::percent(double fraction) const
{
    if (!std::isfinite(fraction))
        return QStringLiteral("—");
    const double p = fraction * 100;
    if (std::fabs(p) < 9.95 && std::round(p) != std::round(p * 10) / 10)
        return trimmed(p, 1, 1) + u'%';
    return numbers().toString(std::round(p), 'f', 0) + u'%';
}

double Format::niceUsd(double usdValue) const
{
    if (!(usdValue > 0) || !std::isfinite(usdValue))
        return 0;
    static constexpr std::array kMantissas{1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5, 10.0};
    const int e = int(std::floor(std::log10(usdValue)));
    const double m = usdValue / pow10(e);
    double best = kMantissas.front();
    double bestDistance = std::numeric_limits<double>::infinity();
    for (const double c : kMantissas) {
        const double d = std::fabs(std::log(m) - std::log(c));
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    // Divide by the power of ten for negative exponents: 2.5 / 10 is exactly 0.25, 2.5 * 0.1 is not.
    return e < 0 ? best / pow10(-e) : best * pow10(e);
}

double Format::sliderToUsd(double position) const
{
    const double p = std::isfinite(position) ? qBound(0.0, position, 1.0) : 0.0;
    const double decades = std::log10(kSliderMaxUsd / kSliderMinUsd);
    return qBound(kSliderMinUsd, niceUsd(kSliderMinUsd * std::pow(10.0, p * decades)), kSliderMaxUsd);
}

double Format::usdToSlider(double usdValue) const
{
    if (!(usdValue > kSliderMinUsd) || !std::isfinite(usdValue))
        return usdValue == std::numeric_limits<double>::infinity() ? 1.0 : 0.0;
    const double decades = std::log10(kSliderMaxUsd / kSliderMinUsd);
    return qBound(0.0, std::log10(usdValue / kSliderMinUsd) / decades, 1.0);
}

} // namespace gh::ui
