pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The team state in the navigation rail (a team store only): a dot (green connected, amber
// degraded, red offline) and a word; a click opens the detail (TeamDetail) beside the rail.
AbstractButton {
    id: chip

    required property TeamState team
    signal settingsRequested()

    readonly property color tone: chip.team.state === "connected" ? Theme.ok
        : chip.team.state === "degraded" ? Theme.warning
        : chip.team.state === "offline" ? Theme.danger : Theme.textFaint

    objectName: "teamChip"
    visible: chip.team.isTeam
    implicitWidth: 76
    implicitHeight: 40
    focusPolicy: Qt.StrongFocus
    text: chip.team.state === "connected" ? qsTr("Team")
        : chip.team.state === "degraded" ? qsTr("Degraded")
        : chip.team.state === "offline" ? qsTr("Offline") : qsTr("Team…")
    Accessible.name: chip.team.stateLabel
    Accessible.description: chip.team.stateDetail
    ToolTip.visible: (chip.hovered || chip.visualFocus) && !popup.opened
    ToolTip.delay: 500
    ToolTip.text: chip.team.stateLabel + "\n" + chip.team.stateDetail
    onClicked: popup.opened ? popup.close() : popup.open()

    background: Rectangle {
        radius: Theme.radius
        color: chip.team.state === "offline" ? Theme.dangerSoft : chip.team.state === "degraded" ? Theme.warningSoft
             : chip.hovered || popup.opened ? Theme.surfaceHover : "transparent"
        border.width: chip.visualFocus ? 2 : 0
        border.color: Theme.accent
    }
    contentItem: ColumnLayout {
        spacing: 3
        Rectangle {
            Layout.alignment: Qt.AlignHCenter
            implicitWidth: 10
            implicitHeight: 10
            radius: 5
            color: chip.tone
        }
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: chip.text
            font.pixelSize: Theme.fontCaption
            color: chip.team.state === "connected" ? Theme.textMuted : chip.tone
        }
    }

    Popup {
        id: popup
        objectName: "teamPopup"
        x: chip.width + Theme.space2
        y: 0
        width: 520
        padding: Theme.space4
        focus: true
        closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutsideParent
        background: Rectangle {
            color: Theme.surface
            radius: Theme.radius
            border.color: Theme.border
        }
        contentItem: ColumnLayout {
            spacing: Theme.space3
            Label {
                text: qsTr("Team")
                font.pixelSize: Theme.fontHeading
                font.weight: Font.DemiBold
                color: Theme.text
            }
            TeamDetail {
                Layout.fillWidth: true
                team: chip.team
            }
            AppButton {
                Layout.alignment: Qt.AlignRight
                text: qsTr("Store settings…")
                icon.source: Theme.icon("settings")
                onClicked: {
                    popup.close();
                    chip.settingsRequested();
                }
            }
        }
    }
}
