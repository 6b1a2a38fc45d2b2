#pragma once
#include "pricing/price.h"
#include <QDate>
#include <QHash>
#include <QList>
#include <QString>

namespace gh {

// One model in the bundled catalog (resources/prices.json).
struct CatalogModel {
    QString vendor;          // catalog vendor id: openai, anthropic, google, deepseek, mistral, xai
    QString name;            // the vendor's model name, e.g. gpt-4.1-mini
    ModelPrice price;
    qint64 contextWindow = 0;
    qint64 maxOutputTokens = 0;
    QStringList capabilities; // "tools", "vision", "json_schema", "reasoning", "embeddings"
};

// The price catalog shipped with Gatehouse, with the date its prices were taken.
class PriceCatalog
{
public:
    // Loads the bundled catalog from the Qt resource ":/gatehouse/prices.json".
    [[nodiscard]] static const PriceCatalog &bundled();
    // Parses a catalog document; on failure returns an empty catalog and sets *error.
    [[nodiscard]] static PriceCatalog fromJson(const QByteArray &json, QString *error = nullptr);

    [[nodiscard]] QDate takenOn() const { return m_takenOn; }
    [[nodiscard]] bool hasVendor(const QString &vendor) const;
    [[nodiscard]] QList<CatalogModel> models(const QString &vendor) const;
    // Exact name first, then the longest catalog name that is a prefix of `model` followed by '-'
    // (so dated snapshots like gpt-4.1-mini-2025-04-14 find gpt-4.1-mini).
    [[nodiscard]] const CatalogModel *find(const QString &vendor, const QString &model) const;
    [[nodiscard]] int size() const;

private:
    QDate m_takenOn;
    QHash<QString, QList<CatalogModel>> m_byVendor;
};

} // namespace gh
