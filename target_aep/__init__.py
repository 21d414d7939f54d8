"""target-aep: a Singer target that writes validated XDM to Adobe Experience Platform."""
