pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One numbered first-run step with its action button.
Rectangle {
    id: step

    required property int number
    required property string title
    required property string text
    required property string actionText
    property bool primary: false

    signal activated()

    Layout.fillWidth: true
    Layout.fillHeight: true
    Layout.preferredWidth: 1
    implicitHeight: column.implicitHeight + 2 * Theme.space4
    radius: Theme.radius
    color: Theme.surfaceAlt
    border.color: Theme.border

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: Theme.space4
        spacing: Theme.space2

        RowLayout {
            spacing: Theme.space2
            Rectangle {
                implicitWidth: 24
                implicitHeight: 24
                radius: 12
                color: step.primary ? Theme.accent : Theme.accentSoft
                Label {
                    anchors.centerIn: parent
                    text: step.number
                    font.pixelSize: Theme.fontSmall
                    font.weight: Font.DemiBold
                    color: step.primary ? Theme.textOnAccent : Theme.accent
                }
            }
            Label {
                Layout.fillWidth: true
                text: step.title
                font.pixelSize: Theme.fontBody + 1
                font.weight: Font.DemiBold
                color: Theme.text
                elide: Text.ElideRight
            }
        }
        Label {
            Layout.fillWidth: true
            Layout.fillHeight: true
            text: step.text
            wrapMode: Text.Wrap
            font.pixelSize: Theme.fontBody
            color: Theme.textMuted
            verticalAlignment: Text.AlignTop
        }
        AppButton {
            text: step.actionText
            variant: step.primary ? "primary" : "secondary"
            onClicked: step.activated()
        }
    }
}
