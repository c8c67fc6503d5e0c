// Package shim hands out the Terraform Docker provider. Go lets only packages under
// github.com/terraform-providers/terraform-provider-docker/ import its internal/provider, so
// this module's path sits there; the wrapper's go.mod points the path at ./shim.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider is the upstream provider's SDKv2 half (every resource the bridge serves).
func NewProvider() *schema.Provider {
	return provider.New("dev")()
}
