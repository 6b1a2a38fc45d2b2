#pragma once
#include "discovery/localdiscovery.h"
#include "providersmodel.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// Model servers found on this machine (discovery/localdiscovery.h), offered as providers in one
// click: Ollama, LM Studio, llama.cpp, vLLM, Jan or any OpenAI-compatible server on their usual
// loopback ports. Probes when created and on scan(). `providers` (the page's ProvidersModel) adds
// them and tells which are configured already; `ports` replaces the usual ports (tests).
class LocalServersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool scanning READ scanning NOTIFY scanningChanged)
    Q_PROPERTY(gh::ui::ProvidersModel *providers READ providers WRITE setProviders NOTIFY providersChanged)
    Q_PROPERTY(QList<int> ports READ ports WRITE setPorts NOTIFY portsChanged)
public:
    enum Roles {
        NameRole = Qt::UserRole + 1, // "Ollama 0.5.7"
        KindRole, // "ollama" | "lmstudio" | "llamacpp" | "vllm" | "jan" | "openai"
        ProviderIdRole, // the id it is added as ("ollama")
        BaseUrlRole, // "http://127.0.0.1:11434/v1"
        PortRole, // 11434
        ModelsRole, // model names from its own API
        NeedsKeyRole, // it wants an API key for its list
        AddedRole, // a configured provider already points at it
    };
    Q_ENUM(Roles)

    explicit LocalServersModel(QObject *parent = nullptr);
    ~LocalServersModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] bool scanning() const { return m_discovery.isProbing(); }
    [[nodiscard]] ProvidersModel *providers() const { return m_providers; }
    void setProviders(ProvidersModel *providers);
    [[nodiscard]] QList<int> ports() const;
    void setPorts(const QList<int> &ports);

    // Probes the loopback again.
    Q_INVOKABLE void scan();
    // The names of the servers found that no configured provider points at yet ("Ollama 0.5.7").
    Q_INVOKABLE QStringList unaddedNames() const;
    // Adds the server of `row` as a local provider with its models (priced $0 as local). "" when
    // added, else the error.
    Q_INVOKABLE QString add(int row);

Q_SIGNALS:
    void countChanged();
    void scanningChanged();
    void providersChanged();
    void portsChanged();

private:
    void refreshAdded();
    LocalDiscovery m_discovery;
    QList<LocalServer> m_servers;
    QPointer<ProvidersModel> m_providers;
    QList<int> m_ports;
    bool m_portsSet = false;
};

} // namespace gh::ui
