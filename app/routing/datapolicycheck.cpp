#include "routing/datapolicycheck.h"

namespace gh {

namespace {
constexpr QLatin1String kReasonPrefix("data policy: ");
}

bool isDataPolicyReason(const QString &reason) { return reason.startsWith(kReasonPrefix); }

const PublishedPolicy *publishedPolicyFor(const ProviderConfig &provider)
{
    if (provider.local)
        return publishedPolicy(QStringLiteral("local"));
    return publishedPolicy(provider.catalog.isEmpty() ? provider.id : provider.catalog);
}

DataPolicy effectiveDataPolicy(const ProviderConfig &provider)
{
    const PublishedPolicy *published = publishedPolicyFor(provider);
    return provider.dataPolicy.over(published ? published->policy : DataPolicy());
}

DataPolicy effectiveDataPolicy(const ModelEntry &model)
{
    // A model without its provider (never forwarded anyway) has only its own layer.
    const DataPolicy base = model.provider ? effectiveDataPolicy(model.provider->config) : DataPolicy();
    return model.config.dataPolicy.over(base);
}

QString dataPolicyRefusal(const ModelEntry &model, const KeyEntry &key)
{
    if (!key.requirePolicy.any())
        return {};
    const QString why = requireShortfall(key.requirePolicy, effectiveDataPolicy(model));
    if (why.isEmpty())
        return {};
    return kReasonPrefix + QStringLiteral("key '%1' %2").arg(key.name, why);
}

} // namespace gh
