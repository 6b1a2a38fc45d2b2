#pragma once
#include "pricing/price.h"
#include <QDate>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QRegularExpression>
#include <QString>
#include <memory>

namespace gh {

// One of genai-prices' model-match rules. Text rules compare case-insensitively (as the package
// does); a regex is matched as written, unanchored.
struct MatchRule {
    enum class Kind { Never, Equals, StartsWith, EndsWith, Contains, Regex, Or, And };
    Kind kind = Kind::Never;
    QString text; // lower-cased for the text rules
    QRegularExpression regex;
    QList<MatchRule> children;
    [[nodiscard]] bool matches(const QString &name) const;
};

// A price that applies from a date on, or during a time of day (UTC), as genai-prices writes them.
struct ScheduledPrice {
    enum class Constraint { None, StartDate, TimeOfDay };
    Constraint constraint = Constraint::None;
    QDateTime startsAt;       // StartDate: from 00:00 UTC of that day
    int startSecond = 0;      // TimeOfDay: seconds after 00:00 UTC, [start, end), wrapping past midnight
    int endSecond = 0;
    ModelPrice price;
};

// One model in the catalog.
struct CatalogModel {
    QString vendor;          // the catalog's provider id: openai, anthropic, google, openrouter, ...
    QString name;            // the catalog's id for the model, e.g. claude-sonnet-4-5
    QString displayName;
    MatchRule match;         // which requested names are this model
    QList<ScheduledPrice> schedule; // in the data's order; the last one that applies wins
    qint64 contextWindow = 0;
    qint64 maxOutputTokens = 0; // the catalog does not say: 0
    QStringList capabilities;   // the catalog does not say: empty (unknown)
    bool deprecated = false;
    ModelPrice price;        // the price in force when the catalog was loaded (see priceAt)
    [[nodiscard]] ModelPrice priceAt(const QDateTime &when) const;
};

// One provider of the catalog with its rules.
struct CatalogProvider {
    QString id;
    QString name;
    std::optional<MatchRule> modelMatch;    // the names this vendor's family answers to (claude..., gpt-...)
    std::optional<MatchRule> providerMatch; // the provider ids that mean this provider (xai -> x-ai)
    QStringList fallbackProviders;
    QList<CatalogModel> models;
};

// What changed between two catalogs, by (provider, model id).
struct CatalogDiff {
    int added = 0;
    int removed = 0;
    int repriced = 0;
    [[nodiscard]] QString summary() const;
};

// The price catalog: the data of @pydantic/genai-prices (resources/genai-prices.json, refreshed at
// run time by CatalogUpdater). A model no rule matches is unpriced: never priced by a loose prefix
// like a neighbour.
class PriceCatalog
{
public:
    // Loads the bundled catalog from the Qt resource ":/gatehouse/genai-prices.json".
    [[nodiscard]] static const PriceCatalog &bundled();
    // The catalog in use: the refreshed copy when one was installed, else the bundled one.
    [[nodiscard]] static std::shared_ptr<const PriceCatalog> current();
    static void setCurrent(std::shared_ptr<const PriceCatalog> catalog);
    // Accepts the package's data (a JSON array of providers) or the bundled file's wrapper
    // ({"source", "taken_on", "providers": [...]}). On failure returns an empty catalog and sets *error.
    [[nodiscard]] static PriceCatalog fromJson(const QByteArray &json, QString *error = nullptr);

    [[nodiscard]] bool isEmpty() const { return m_providers.isEmpty(); }
    [[nodiscard]] QDate takenOn() const { return m_takenOn; }
    [[nodiscard]] QString source() const { return m_source; }
    void setOrigin(const QString &source, const QDate &takenOn) { m_source = source; m_takenOn = takenOn; }

    // The catalog provider a configured provider id or catalog name stands for: its id, or the first
    // provider whose provider_match accepts it (xai -> x-ai). Empty when none.
    [[nodiscard]] QString vendorFor(const QString &providerIdOrCatalog) const;
    [[nodiscard]] bool hasVendor(const QString &vendor) const { return !vendorFor(vendor).isEmpty(); }
    [[nodiscard]] const CatalogProvider *provider(const QString &vendor) const;
    [[nodiscard]] const QList<CatalogProvider> &providers() const { return m_providers; }
    [[nodiscard]] QList<CatalogModel> models(const QString &vendor) const;
    // The vendor's model whose match rule accepts `model` (first in the data's order), else the same
    // with a compact date (-20250929) written as -2025-09-29, else through the vendor's
    // fallback providers. nullptr: unpriced.
    [[nodiscard]] const CatalogModel *find(const QString &vendor, const QString &model) const;
    // The vendor whose family a bare model name belongs to: the first provider whose model_match
    // accepts it (*byFamilyRule = true), else the first provider with a model_match one of whose own
    // models matches the name (codex-mini-latest is OpenAI's, llama-3.3-70b Cerebras's name for it).
    // Empty if none.
    [[nodiscard]] QString familyOf(const QString &model, bool *byFamilyRule = nullptr) const;
    [[nodiscard]] int size() const;
    [[nodiscard]] CatalogDiff diff(const PriceCatalog &newer) const;

private:
    QDate m_takenOn;
    QString m_source;
    QList<CatalogProvider> m_providers;
    QHash<QString, qsizetype> m_index; // provider id -> position
};

} // namespace gh
