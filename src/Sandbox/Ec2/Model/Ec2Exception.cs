namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>An EC2 error as the Query API reports it: a code from EC2's vocabulary, a message and an HTTP status.</summary>
internal sealed class Ec2Exception(string code, string message, int httpStatus = 400) : Exception(message)
{
    public string Code { get; } = code;
    public int HttpStatus { get; } = httpStatus;

    public static Ec2Exception EniNotFound(string id) =>
        new("InvalidNetworkInterfaceID.NotFound", $"The networkInterface ID '{id}' does not exist");

    public static Ec2Exception MalformedEniId(string id) =>
        new("InvalidNetworkInterfaceID.Malformed", $"Invalid id: \"{id}\" (expecting \"eni-...\")");

    public static Ec2Exception AssociationNotFound(string id) =>
        new("InvalidAssociationID.NotFound", $"The association ID '{id}' does not exist");

    public static Ec2Exception AttachmentNotFound(string id) =>
        new("InvalidAttachmentID.NotFound", $"The attachment ID '{id}' does not exist");

    public static Ec2Exception InstanceNotFound(string id) =>
        new("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");

    public static Ec2Exception SubnetNotFound(string id) =>
        new("InvalidSubnetID.NotFound", $"The subnet ID '{id}' does not exist");

    public static Ec2Exception GroupNotFound(string id) =>
        new("InvalidGroup.NotFound", $"The security group '{id}' does not exist");

    public static Ec2Exception Missing(string parameter) =>
        new("MissingParameter", $"The request must contain the parameter {parameter}");

    public static Ec2Exception InvalidValue(string message) => new("InvalidParameterValue", message);

    public static Ec2Exception Throttled() => new("RequestLimitExceeded", "Request limit exceeded.", 503);
}
